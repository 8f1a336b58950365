//go:build !race

package filterpolicy

const raceEnabled = false
