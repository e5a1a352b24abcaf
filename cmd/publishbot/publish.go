package main

import (
	"context"
	"errors"
	"io"
)

// runPublish is a stub until its issue lands.
func runPublish(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("publish: not implemented yet")
}
