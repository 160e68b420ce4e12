package task

import "context"

// audit records who did what to which task or route in the audit log. The
// task's own timeline keeps the step besides.
func (s *Server) audit(ctx context.Context, action, target, code string, pairs ...string) {
	s.auditLog.Record(ctx, action, target, code, pairs...)
}
