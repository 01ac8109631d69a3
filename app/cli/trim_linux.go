package cli

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// codeRange is one read-only mapping of the executable.
type codeRange struct{ start, len uintptr }

// codeRanges lists the executable's read-only mappings (code, constants,
// tables) once: they do not move while the process runs.
var codeRanges = sync.OnceValue(func() []codeRange {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return nil
	}
	defer f.Close()
	return parseCodeRanges(f, exe)
})

// parseCodeRanges reads /proc/PID/maps lines from f and returns the
// read-only mappings of the file exe.
func parseCodeRanges(f io.Reader, exe string) []codeRange {
	var rs []codeRange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || (fields[1] != "r-xp" && fields[1] != "r--p") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		rs = append(rs, codeRange{uintptr(start), uintptr(end - start)})
	}
	return rs
}

// dropCodePages unmaps the resident pages of the executable's read-only
// mappings with madvise(MADV_DONTNEED). The kernel maps them in by the
// 64 KiB around each first use (fault-around), so most of what an idle
// process holds is code and tables it used once at start-up or during a
// burst; the pages stay in the page cache, shared and reclaimable, and one
// that is used again is mapped back with a minor fault. Writable mappings
// are never touched: dropping them would lose data.
//
// The mappings are listed on the first call and kept: reading
// /proc/self/maps after the first mapping is dropped would fault back the
// code that parses it, 64 KiB at a time (about 1 MiB in all).
func dropCodePages() {
	for _, r := range codeRanges() {
		unix.Syscall(unix.SYS_MADVISE, r.start, r.len, unix.MADV_DONTNEED)
	}
}
