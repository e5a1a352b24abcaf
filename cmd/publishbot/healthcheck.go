package main

import (
	"context"
	"errors"
	"io"
)

// runHealthcheck is a stub until its issue lands.
func runHealthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("healthcheck: not implemented yet")
}
