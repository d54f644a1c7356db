//go:build linux || darwin || freebsd

package guardpage

import (
	"fmt"
	"syscall"
	"unsafe"
)

// Supported reports whether this operating system can place guard pages.
const Supported = true

// Slice returns a zeroed slice of n elements whose last element ends exactly at the start of a page
// mapped with no access, and a function that unmaps both. The slice must not be used after free, and
// must not be stored where the garbage collector expects heap memory to live forever.
func Slice[T any](n int) (s []T, free func() error, err error) {
	if n < 0 {
		return nil, nil, fmt.Errorf("guardpage: negative length %d", n)
	}
	var zero T
	size := int(unsafe.Sizeof(zero)) * n
	page := syscall.Getpagesize()
	data := (size + page - 1) / page * page
	mem, err := syscall.Mmap(-1, 0, data+page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("guardpage: mmap %d bytes: %w", data+page, err)
	}
	if err := syscall.Mprotect(mem[data:], syscall.PROT_NONE); err != nil {
		_ = syscall.Munmap(mem)
		return nil, nil, fmt.Errorf("guardpage: mprotect the guard page: %w", err)
	}
	free = func() error { return syscall.Munmap(mem) }
	if n == 0 {
		return []T{}, free, nil
	}
	start := unsafe.Pointer(&mem[data-size])
	return unsafe.Slice((*T)(start), n), free, nil
}
