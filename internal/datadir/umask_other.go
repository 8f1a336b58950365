//go:build !unix

package datadir

// RestrictUmask does nothing where there is no umask; it returns 0.
func RestrictUmask() int { return 0 }

func isEINVAL(error) bool { return false }
