// Command check lints a Dockerfile offline with BuildKit's own parser and
// linter (the rules `docker build --check` applies), then checks what this
// project's images promise: every named target exists, copies come from
// earlier stages, and each target runs as a non-root user.
//
//	go run . -targets identity,gateway ../Dockerfile
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

func main() {
	targets := flag.String("targets", "", "comma-separated stages that must exist and run as non-root")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: check [-targets a,b] Dockerfile")
		os.Exit(2)
	}
	problems, err := check(flag.Arg(0), strings.Split(*targets, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("%s: parsed and linted, %d targets non-root\n", flag.Arg(0), len(strings.Split(*targets, ",")))
}

func check(path string, targets []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var problems []string
	for _, w := range res.Warnings {
		problems = append(problems, fmt.Sprintf("%s:%d: %s", path, w.Location.Start.Line, w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, loc []parser.Range) {
		line := 0
		if len(loc) > 0 {
			line = loc[0].Start.Line
		}
		problems = append(problems, fmt.Sprintf("%s:%d: %s: %s", path, line, rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	byName := map[string]instructions.Stage{}
	var seen []string
	for _, s := range stages {
		for _, c := range s.Commands {
			if cp, ok := c.(*instructions.CopyCommand); ok && cp.From != "" && !slices.Contains(seen, cp.From) {
				problems = append(problems, fmt.Sprintf("stage %s copies from %q, which is no earlier stage", s.Name, cp.From))
			}
		}
		byName[s.Name] = s
		seen = append(seen, s.Name)
	}
	for _, t := range targets {
		if t == "" {
			continue
		}
		if _, ok := byName[t]; !ok {
			problems = append(problems, fmt.Sprintf("target %s is missing", t))
			continue
		}
		if u := user(t, byName); u == "" || u == "root" || u == "0" || strings.HasPrefix(u, "0:") || strings.HasPrefix(u, "root:") {
			problems = append(problems, fmt.Sprintf("target %s runs as %q; every image runs as a non-root user", t, u))
		}
	}
	return problems, nil
}

// user is the last USER a stage sets, following its base stages.
func user(name string, stages map[string]instructions.Stage) string {
	for depth := 0; depth < 20; depth++ {
		s, ok := stages[name]
		if !ok {
			return ""
		}
		for i := len(s.Commands) - 1; i >= 0; i-- {
			if u, ok := s.Commands[i].(*instructions.UserCommand); ok {
				return u.User
			}
		}
		name = s.BaseName
	}
	return ""
}
