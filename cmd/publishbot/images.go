package main

import (
	"path/filepath"

	"github.com/publishbot/publishbot/imagery"
)

// imageProcessor is the image treatment of serve and publish, its results
// cached in dataDir/images.
func imageProcessor(dataDir string) *imagery.Processor {
	return imagery.New(imagery.NewDirCache(filepath.Join(dataDir, "images")))
}

// localImageProcessor is the image treatment of build and check: cached in
// $PUBLISHBOT_DATA_DIR/images, else in the user's cache folder
// ($XDG_CACHE_HOME/publishbot/images, else ~/.cache/publishbot/images).
// With none of those set it caches nothing: the output is the same, only
// slower.
func localImageProcessor(getenv func(string) string) *imagery.Processor {
	if d := getenv("PUBLISHBOT_DATA_DIR"); d != "" {
		return imageProcessor(d)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return imageProcessor(filepath.Join(d, "publishbot"))
	}
	if h := getenv("HOME"); h != "" {
		return imageProcessor(filepath.Join(h, ".cache", "publishbot"))
	}
	return imagery.New(nil)
}
