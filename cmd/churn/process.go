package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// localPID reads the pid of an owner name (host:pid, or host:pid:suffix)
// when the host is this one; processes of other hosts cannot be checked.
func localPID(owner string) (int, bool) {
	host, rest, ok := strings.Cut(owner, ":")
	pid, _, _ := strings.Cut(rest, ":")
	n, err := strconv.Atoi(pid)
	if !ok || err != nil || n <= 0 {
		return 0, false
	}
	if me, err := os.Hostname(); err != nil || me != host {
		return 0, false
	}
	return n, true
}

// processExists says whether a process with pid runs on this host. Signal 0
// only checks that it exists; EPERM means it exists under another user.
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// ownerExited says whether the queue owner named id (host:pid:random) is
// known to be gone: a process of this host that no longer runs, or an
// earlier process with this process's pid (a restarted container's pid 1).
func ownerExited(id, self string) bool {
	pid, ok := localPID(id)
	if !ok || id == self {
		return false
	}
	return pid == os.Getpid() || !processExists(pid)
}
