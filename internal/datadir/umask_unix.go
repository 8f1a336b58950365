//go:build unix

package datadir

import (
	"errors"
	"syscall"
)

// RestrictUmask sets the process umask to 077, so that files and
// directories created by any code in the process (the embedded store
// creates its own with 0666/0755) are private to the owner. It returns the
// previous umask.
func RestrictUmask() int { return syscall.Umask(0o077) }

func isEINVAL(err error) bool { return errors.Is(err, syscall.EINVAL) }
