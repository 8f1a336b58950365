//go:build cgo

package pebblestore

// blockCacheSize is pebble's block cache: with cgo, pebble allocates it with
// C malloc, outside the Go heap.
const blockCacheSize = 64 << 20
