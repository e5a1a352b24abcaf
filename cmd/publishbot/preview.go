package main

import (
	"context"
	"errors"
	"io"
)

// runPreview is a stub until its issue lands.
func runPreview(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("preview: not implemented yet")
}
