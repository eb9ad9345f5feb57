// Command manifestload loads one manifest.json with catalog.LoadManifestFile and prints what it kept and how long
// the load took; bench/manifest_load.sh runs it under /usr/bin/time for the peak RSS.
//
//	go run ./bench/manifestload /tmp/manifest.json
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/deferproxy/deferproxy/catalog"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: manifestload MANIFEST")
		os.Exit(2)
	}
	start := time.Now()
	m, err := catalog.LoadManifestFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "manifestload:", err)
		os.Exit(1)
	}
	took := time.Since(start)
	deferrable := 0
	m.Nodes(func(n *catalog.Node) bool {
		if m.Deferrable(n) {
			deferrable++
		}
		return true
	})
	fmt.Printf("nodes=%d deferrable=%d bytes=%d load_s=%.3f\n", m.Len(), deferrable, m.Size(), took.Seconds())
}
