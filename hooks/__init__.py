"""Shell templates of the git hooks bd-vpt installs (shipped as package data)."""
