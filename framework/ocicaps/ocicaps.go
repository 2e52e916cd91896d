// Package ocicaps trims OCI runtime configs to what the host can grant: the capabilities in the
// caller's bounding set and an oom_score_adj no lower than the caller's. It backs netconform-runc.
package ocicaps

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// capNames maps Linux capability names to their bit numbers (linux/capability.h).
var capNames = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_DAC_READ_SEARCH": 2, "CAP_FOWNER": 3, "CAP_FSETID": 4,
	"CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8, "CAP_LINUX_IMMUTABLE": 9,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_BROADCAST": 11, "CAP_NET_ADMIN": 12, "CAP_NET_RAW": 13,
	"CAP_IPC_LOCK": 14, "CAP_IPC_OWNER": 15, "CAP_SYS_MODULE": 16, "CAP_SYS_RAWIO": 17, "CAP_SYS_CHROOT": 18,
	"CAP_SYS_PTRACE": 19, "CAP_SYS_PACCT": 20, "CAP_SYS_ADMIN": 21, "CAP_SYS_BOOT": 22, "CAP_SYS_NICE": 23,
	"CAP_SYS_RESOURCE": 24, "CAP_SYS_TIME": 25, "CAP_SYS_TTY_CONFIG": 26, "CAP_MKNOD": 27, "CAP_LEASE": 28,
	"CAP_AUDIT_WRITE": 29, "CAP_AUDIT_CONTROL": 30, "CAP_SETFCAP": 31, "CAP_MAC_OVERRIDE": 32,
	"CAP_MAC_ADMIN": 33, "CAP_SYSLOG": 34, "CAP_WAKE_ALARM": 35, "CAP_BLOCK_SUSPEND": 36, "CAP_AUDIT_READ": 37,
	"CAP_PERFMON": 38, "CAP_BPF": 39, "CAP_CHECKPOINT_RESTORE": 40,
}

// Set is a capability bitmask as /proc/<pid>/status prints it.
type Set uint64

// Has reports whether the named capability is in the set. Unknown names are kept: the
// runtime, not this wrapper, decides what to do with them.
func (s Set) Has(name string) bool {
	bit, ok := capNames[strings.ToUpper(name)]
	if !ok {
		return true
	}
	return s&(1<<bit) != 0
}

// ParseStatus reads the CapBnd line of a /proc/<pid>/status text.
func ParseStatus(status string) (Set, error) {
	for _, line := range strings.Split(status, "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return 0, fmt.Errorf("parse CapBnd %q: %w", v, err)
			}
			return Set(n), nil
		}
	}
	return 0, errors.New("no CapBnd line in status")
}

// OwnBoundingSet returns the calling process's capability bounding set.
func OwnBoundingSet() (Set, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read own status: %w", err)
	}
	return ParseStatus(string(b))
}

// OwnOOMScoreAdj returns the calling process's oom_score_adj: lowering a child's below it
// needs CAP_SYS_RESOURCE.
func OwnOOMScoreAdj() (int, error) {
	b, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0, fmt.Errorf("read own oom_score_adj: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("parse oom_score_adj: %w", err)
	}
	return n, nil
}

// Invocation is what the wrapper needs to know of a runc command line.
type Invocation struct {
	Command string // create, run, exec, ...
	Bundle  string // --bundle / -b
	Process string // --process / -p (exec)
}

// globalWithValue lists runc's global flags that take a separate value.
var globalWithValue = map[string]bool{"--root": true, "--log": true, "--log-format": true, "--criu": true, "--rootless": true}

// ParseArgs finds the subcommand and the bundle or process file in runc's arguments.
func ParseArgs(args []string) Invocation {
	var inv Invocation
	for i := 0; i < len(args); i++ {
		a := args[i]
		if inv.Command == "" {
			if strings.HasPrefix(a, "-") {
				if globalWithValue[a] {
					i++
				}
				continue
			}
			inv.Command = a
			continue
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--bundle", "-b", "--process", "-p":
			if !hasVal && i+1 < len(args) {
				i++
				val = args[i]
			}
			if name == "--bundle" || name == "-b" {
				inv.Bundle = val
			} else {
				inv.Process = val
			}
		}
	}
	return inv
}

// Trim removes capabilities outside bounding from an OCI process object and raises its
// oomScoreAdj to floor. It reports whether anything changed.
func Trim(process map[string]any, bounding Set, floor int) bool {
	changed := false
	if caps, ok := process["capabilities"].(map[string]any); ok {
		for kind, list := range caps {
			names, ok := list.([]any)
			if !ok {
				continue
			}
			kept := make([]any, 0, len(names))
			for _, n := range names {
				if s, ok := n.(string); ok && !bounding.Has(s) {
					changed = true
					continue
				}
				kept = append(kept, n)
			}
			caps[kind] = kept
		}
	}
	if v, ok := process["oomScoreAdj"].(float64); ok && int(v) < floor {
		process["oomScoreAdj"] = floor
		changed = true
	}
	return changed
}

// GrantPrivileged completes the capabilities of a privileged container (one without masked or
// read-only paths that holds CAP_SYS_ADMIN) with every capability in bounding it lacks. Engines
// older than a capability leave it out of "all capabilities": docker 20.10 grants privileged
// containers nothing above CAP_AUDIT_READ, so kind nodes, and every privileged pod in them, lack
// CAP_PERFMON and CAP_BPF, which tools such as bpftool require. It reports whether it changed
// anything.
func GrantPrivileged(config map[string]any, bounding Set) bool {
	linux, _ := config["linux"].(map[string]any)
	process, _ := config["process"].(map[string]any)
	if linux == nil || process == nil {
		return false
	}
	for _, key := range []string{"maskedPaths", "readonlyPaths"} {
		if paths, _ := linux[key].([]any); len(paths) > 0 {
			return false
		}
	}
	caps, _ := process["capabilities"].(map[string]any)
	if caps == nil || !contains(caps["bounding"], "CAP_SYS_ADMIN") {
		return false
	}
	changed := false
	for _, kind := range []string{"bounding", "effective", "permitted"} {
		list, _ := caps[kind].([]any)
		for name, bit := range capNames {
			if bounding&(1<<bit) != 0 && !contains(list, name) {
				list = append(list, name)
				changed = true
			}
		}
		caps[kind] = list
	}
	return changed
}

func contains(list any, name string) bool {
	l, _ := list.([]any)
	for _, v := range l {
		if s, ok := v.(string); ok && strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// PatchFile trims the process in an OCI file in place: a whole config.json when isConfig, else
// a process JSON as given to runc exec --process. The file is rewritten only when it changes.
func PatchFile(path string, isConfig bool, bounding Set, floor int) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	process := doc
	if isConfig {
		p, ok := doc["process"].(map[string]any)
		if !ok {
			return nil
		}
		process = p
	}
	changed := Trim(process, bounding, floor)
	if isConfig && GrantPrivileged(doc, bounding) {
		changed = true
	}
	if !changed {
		return nil
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, out, fi.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// RealRuntime finds the runc binary to exec: $NETCONFORM_REAL_RUNC, else the first runc on the
// usual paths that is not this wrapper itself.
func RealRuntime(self string) (string, error) {
	if p := os.Getenv("NETCONFORM_REAL_RUNC"); p != "" {
		return p, nil
	}
	selfPath, _ := filepath.EvalSymlinks(self)
	if exe, err := os.Executable(); err == nil {
		selfPath, _ = filepath.EvalSymlinks(exe)
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"} {
		resolved, err := filepath.EvalSymlinks(p)
		if err != nil || resolved == selfPath {
			continue
		}
		return p, nil
	}
	return "", errors.New("no runc found (set NETCONFORM_REAL_RUNC)")
}
