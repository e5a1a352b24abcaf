package main

import (
	"context"
	"errors"
	"io"
)

// runServe is a stub until its issue lands.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("serve: not implemented yet")
}
