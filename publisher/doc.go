// Package publisher owns one job end to end: what the pages tree becomes for
// a publish (the source commit's site), a pull request's preview (under
// pr-preview/pr-N/) or its clean-up, and whether a repository's published
// site is behind its source branch (Drift). It fetches, reads, commits and
// pushes through the git store it is given (the Store and Repo interfaces,
// implemented by gitstore), builds with posts and templates, and reports
// through the Reporter interface it defines.
package publisher
