"""Where bd-vpt meets other tools: git hooks (install and run), the GitHub client and
pull request comment, and the `bd vpt` shell function.
"""
