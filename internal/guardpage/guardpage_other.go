//go:build !(linux || darwin || freebsd)

package guardpage

import (
	"errors"
	"runtime"
)

// Supported reports whether this operating system can place guard pages.
const Supported = false

// Slice is not available on this operating system.
func Slice[T any](n int) (s []T, free func() error, err error) {
	return nil, nil, errors.New("guardpage: not supported on " + runtime.GOOS)
}
