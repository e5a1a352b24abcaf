package main

import (
	"context"
	"errors"
	"io"
)

// runCheck is a stub until its issue lands.
func runCheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("check: not implemented yet")
}
