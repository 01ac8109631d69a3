//go:build !linux

package cli

// writeProcessMetrics writes nothing outside Linux: the process_* metrics
// come from /proc.
func writeProcessMetrics(promWriter) {}
