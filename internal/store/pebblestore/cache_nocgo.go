//go:build !cgo

package pebblestore

// blockCacheSize is pebble's block cache: without cgo, pebble allocates it
// on the Go heap, so it stays at pebble's default size.
const blockCacheSize = 8 << 20
