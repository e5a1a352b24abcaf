// Package textpl expands, in a post's Markdown, the template syntax of the
// site generators blogs move from: Jekyll Liquid (run by osteele/liquid,
// wrapped so that it is bounded), Hugo shortcodes, and Eleventy's
// Nunjucks image tag and url filter. It runs the syntax as data: it reads
// nothing but what its Env hands it (includes and custom shortcodes come
// through Env functions that name the file they read), takes a context,
// and is bounded in loop iterations, output bytes, include depth and
// shortcode nesting.
//
// Expand takes the Markdown body and the byte ranges of its code (fenced
// and indented blocks, code spans), which are never touched, and returns
// the expanded body with a Map from its offsets back to the source's, so
// that diagnostics found later in the expanded text point at the line the
// author wrote. Whatever it cannot expand stays as written, with a Problem
// at its place that names the generator the syntax belongs to.
package textpl
