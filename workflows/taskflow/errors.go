package taskflow

import (
	"errors"

	"go.temporal.io/api/serviceerror"
)

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// IsGone tells whether a command failed because the task's workflow has
// ended (or never existed): the task is closed.
func IsGone(err error) bool { return isNotFound(err) }
