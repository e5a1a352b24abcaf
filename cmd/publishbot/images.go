package main

import (
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/imagery"
)

// imageProcessor is the image treatment of serve and publish, its results
// cached in dataDir/images; damaged cache entries are logged on log.
func imageProcessor(dataDir string, log *logrus.Entry) *imagery.Processor {
	return imagery.New(imagery.NewDirCache(filepath.Join(dataDir, "images")), imagery.WithLog(log))
}

// localImageProcessor is the image treatment of build and check: cached in
// $PUBLISHBOT_DATA_DIR/images, else in the user's cache folder
// ($XDG_CACHE_HOME/publishbot/images, else ~/.cache/publishbot/images).
// With none of those set it caches nothing: the output is the same, only
// slower.
func localImageProcessor(getenv func(string) string, log *logrus.Entry) *imagery.Processor {
	if d := getenv("PUBLISHBOT_DATA_DIR"); d != "" {
		return imageProcessor(d, log)
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return imageProcessor(filepath.Join(d, "publishbot"), log)
	}
	if h := getenv("HOME"); h != "" {
		return imageProcessor(filepath.Join(h, ".cache", "publishbot"), log)
	}
	return imagery.New(nil)
}
