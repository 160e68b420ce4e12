// Package renewable keeps what a component reads from a few files that may
// be renewed while it runs (a certificate and its key): the files are read
// again at the first use after one of them changes on disk, so a renewal
// takes effect without a restart. Files that changed but cannot be used
// leave the previous value in place and are reported once, not at every
// use.
package renewable

import (
	"fmt"
	"os"
	"slices"
	"sync"
	"time"
)

// Files is a value read from files, kept current with them.
type Files[T any] struct {
	paths []string
	read  func(now time.Time) (T, error)

	// Renewed is told of each value read again, Refused of each state of
	// the files that could not be used; set them before the first use.
	Renewed func(T)
	Refused func(error)

	mu     sync.Mutex
	cur    T
	stamp  []stamp
	failed []stamp
}

// stamp tells one state of a file from another: replacing a file changes
// its modification time or size.
type stamp struct{ mod, size int64 }

// Read reads the files now, with read; an error is read's, or names the
// file that cannot be found after what they are ("mutual TLS: stat …").
func Read[T any](what string, read func(now time.Time) (T, error), paths ...string) (*Files[T], error) {
	f := &Files[T]{paths: paths, read: read}
	st, err := f.stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if f.cur, err = read(time.Now()); err != nil {
		return nil, err
	}
	f.stamp = st
	return f, nil
}

func (f *Files[T]) stat() ([]stamp, error) {
	s := make([]stamp, len(f.paths))
	for i, path := range f.paths {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		s[i] = stamp{fi.ModTime().UnixNano(), fi.Size()}
	}
	return s, nil
}

// Current is the value, read again first if a file changed since.
func (f *Files[T]) Current() T {
	st, err := f.stat()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil || slices.Equal(st, f.stamp) || slices.Equal(st, f.failed) {
		return f.cur
	}
	v, err := f.read(time.Now())
	if err != nil {
		f.failed = st
		if f.Refused != nil {
			f.Refused(err)
		}
		return f.cur
	}
	f.cur, f.stamp, f.failed = v, st, nil
	if f.Renewed != nil {
		f.Renewed(v)
	}
	return v
}

// Last is the value as last read, without looking at the files.
func (f *Files[T]) Last() T {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cur
}
