// Command netconform-runc is an OCI runtime wrapper around runc for hosts whose capability
// bounding set lacks capabilities that privileged containers ask for (some sandboxes drop
// CAP_SYS_RESOURCE). Docker and the kind node's containerd call it instead of runc: it removes
// from the container's config (create, run) or exec process (exec --process) every capability
// the wrapper itself cannot hold, raises oomScoreAdj to the wrapper's own floor, and then execs
// the real runc with the same arguments. On a host that has every capability it changes nothing.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/netconform/netconform/framework/ocicaps"
)

func main() {
	if err := run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "netconform-runc: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	real, err := ocicaps.RealRuntime(args[0])
	if err != nil {
		return err
	}
	bounding, err := ocicaps.OwnBoundingSet()
	if err != nil {
		return err
	}
	oomFloor, err := ocicaps.OwnOOMScoreAdj()
	if err != nil {
		return err
	}
	inv := ocicaps.ParseArgs(args[1:])
	switch inv.Command {
	case "create", "run":
		bundle := inv.Bundle
		if bundle == "" {
			if bundle, err = os.Getwd(); err != nil {
				return fmt.Errorf("bundle directory: %w", err)
			}
		}
		if err := ocicaps.PatchFile(filepath.Join(bundle, "config.json"), true, bounding, oomFloor); err != nil {
			return err
		}
	case "exec":
		if inv.Process != "" {
			if err := ocicaps.PatchFile(inv.Process, false, bounding, oomFloor); err != nil {
				return err
			}
		}
	}
	argv := append([]string{real}, args[1:]...)
	return syscall.Exec(real, argv, os.Environ())
}
