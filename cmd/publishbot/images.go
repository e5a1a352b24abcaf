package main

import (
	"os"
	"path/filepath"

	"github.com/publishbot/publishbot/imagery"
)

// imageProcessor is the image treatment of a command, its results cached
// in dir/images (the data folder of serve and publish), or in the user's
// cache folder when dir is "" (build). Without either it caches nothing:
// the output is the same, only slower.
func imageProcessor(dir string) *imagery.Processor {
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return imagery.New(nil)
		}
		dir = filepath.Join(cache, "publishbot")
	}
	return imagery.New(imagery.NewDirCache(filepath.Join(dir, "images")))
}
