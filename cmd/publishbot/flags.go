package main

import (
	"errors"
	"flag"
	"io"
	"os"
)

// newFlagSet is a subcommand's flag set: errors go to stderr, and -h
// prints synopsis (the usage line and any text under it) and the flags.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printHelp(stderr, fs, synopsis) }
	return fs
}

// parseArgs parses a subcommand's args, flags before or after the
// positional arguments ("build DIR -o out" as well as "build -o out DIR"),
// and returns the positional ones, at most max. -h is an exit 0 (usage
// printed); a bad flag or too many arguments is an exit 2.
func parseArgs(fs *flag.FlagSet, args []string, max int) ([]string, error) {
	positional, err := parseFlagsAnyOrder(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, &exitError{Code: 0}
	case err != nil:
		return nil, &exitError{Code: 2} // the flag package said why
	case len(positional) > max && max == 0:
		return nil, usageError("%s: unexpected argument %q", fs.Name(), positional[0])
	case len(positional) > max:
		return nil, usageError("%s: at most one folder, got %d: %q", fs.Name(), len(positional), positional)
	}
	return positional, nil
}

// parseFolderArgs is parseArgs for a command on one content folder: it
// returns the folder, "." when none is given, once it is known to be one.
func parseFolderArgs(fs *flag.FlagSet, args []string) (string, error) {
	positional, err := parseArgs(fs, args, 1)
	if err != nil {
		return "", err
	}
	dir := "."
	if len(positional) == 1 {
		dir = positional[0]
	}
	info, err := os.Stat(dir)
	if err != nil {
		return "", usageError("%s %s: %w", fs.Name(), dir, err)
	}
	if !info.IsDir() {
		return "", usageError("%s %s: not a folder; pass the folder of the content repository, the one with publish.yaml", fs.Name(), dir)
	}
	return dir, nil
}

// parseFlagsAnyOrder parses flags placed before or after the positional
// arguments; "--" ends the flags.
func parseFlagsAnyOrder(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}
