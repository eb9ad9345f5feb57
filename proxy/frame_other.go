//go:build !linux

package proxy

// rawIO is off outside Linux: the pumps use net.Conn's Read and Write.
const rawIO = false

func (p *pump) runRaw() error            { panic("raw I/O is Linux-only") }
func (p *pump) rawRead(fd uintptr) bool  { panic("raw I/O is Linux-only") }
func (p *pump) rawWrite(fd uintptr) bool { panic("raw I/O is Linux-only") }
