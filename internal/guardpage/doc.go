// Package guardpage allocates slices that end exactly where readable memory ends: the page after the
// slice's last element is mapped with no access, so any read or write past the end faults at once,
// instead of only when an allocation happens to land at the end of the heap.
//
// It exists to prove that vector code never reads past the end of its operands (see
// docs/ARCHSIMD-PART-LOADS.md): a test places an operand with Slice and runs the code on it. A fault
// kills the process unless the goroutine has set [runtime/debug.SetPanicOnFault], which turns it into a
// recoverable panic; the tests in this repository run such probes in a child process instead, so that
// an unsafe load is reported as a failed test rather than a crashed test binary.
package guardpage
