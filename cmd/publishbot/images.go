package main

import (
	"path/filepath"

	"github.com/sirupsen/logrus"

	"github.com/publishbot/publishbot/imagery"
	"github.com/publishbot/publishbot/templates"
)

// imageProcessor is the image treatment of serve and publish, its results
// cached in dataDir/images; damaged cache entries are logged on log.
func imageProcessor(dataDir string, log *logrus.Entry) *imagery.Processor {
	return imagery.New(imagery.NewDirCache(filepath.Join(dataDir, "images")), imagery.WithLog(log))
}

// localImageProcessor is the image treatment of build and check: cached in
// localDataDir's images folder. With no such folder it caches nothing: the
// output is the same, only slower.
func localImageProcessor(getenv func(string) string, log *logrus.Entry) *imagery.Processor {
	if d, ok := localDataDir(getenv); ok {
		return imageProcessor(d, log)
	}
	return imagery.New(nil)
}

// previewImages is the image treatment of preview: cached on disk as
// build's (a new preview of a blog of 1,918 photos resized them all again,
// 25 s before its first page), else in memory for the preview's life.
func previewImages(getenv func(string) string, log *logrus.Entry) templates.ImageProcessor {
	if d, ok := localDataDir(getenv); ok {
		return imageProcessor(d, log)
	}
	return nil // preview's own, in memory
}

// localDataDir is where the commands run on an author's machine keep
// their data: $PUBLISHBOT_DATA_DIR, else the user's cache folder
// ($XDG_CACHE_HOME/publishbot, else ~/.cache/publishbot); false for none.
func localDataDir(getenv func(string) string) (string, bool) {
	if d := getenv("PUBLISHBOT_DATA_DIR"); d != "" {
		return d, true
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "publishbot"), true
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".cache", "publishbot"), true
	}
	return "", false
}
