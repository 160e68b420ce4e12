package localstack

// PIDs returns the process id of every running component (and of the
// Temporal dev server the stack started), for measuring what they use.
func (s *Stack) PIDs() map[string]int {
	out := map[string]int{}
	all := s.children
	if s.temporal != nil {
		all = append(all[:len(all):len(all)], s.temporal)
	}
	for _, c := range all {
		c.mu.Lock()
		if c.cmd != nil && c.cmd.Process != nil {
			out[c.name] = c.cmd.Process.Pid
		}
		c.mu.Unlock()
	}
	return out
}
