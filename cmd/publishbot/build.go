package main

import (
	"context"
	"errors"
	"io"
)

// runBuild is a stub until its issue lands.
func runBuild(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("build: not implemented yet")
}
