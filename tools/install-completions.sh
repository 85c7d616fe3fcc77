#!/bin/sh
# Installs logkit's shell completions (bash, zsh, fish) and man pages, generated into completions/
# and man/ by `npm run docs`. `npm run install-completions` runs this.
#   (no argument)  for the current user, under $HOME (no root needed)
#   --system       for every user, under /usr/local (run as root)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
case "${1:-}" in
  --system)
    BASH_DIR=/usr/local/share/bash-completion/completions
    ZSH_DIR=/usr/local/share/zsh/site-functions
    FISH_DIR=/usr/local/share/fish/vendor_completions.d
    MAN_DIR=/usr/local/share/man/man1 ;;
  '')
    DATA=${XDG_DATA_HOME:-$HOME/.local/share}
    BASH_DIR=$DATA/bash-completion/completions
    ZSH_DIR=$HOME/.zfunc
    FISH_DIR=${XDG_CONFIG_HOME:-$HOME/.config}/fish/completions
    MAN_DIR=$DATA/man/man1 ;;
  *) echo "usage: $0 [--system]" >&2; exit 64 ;;
esac
mkdir -p "$BASH_DIR" "$ZSH_DIR" "$FISH_DIR" "$MAN_DIR"
cp "$ROOT/completions/logkit.bash" "$BASH_DIR/logkit"
cp "$ROOT/completions/_logkit" "$ZSH_DIR/_logkit"
cp "$ROOT/completions/logkit.fish" "$FISH_DIR/logkit.fish"
cp "$ROOT"/man/*.1 "$MAN_DIR/"
echo "installed: $BASH_DIR/logkit $ZSH_DIR/_logkit $FISH_DIR/logkit.fish $MAN_DIR/logkit*.1"
if [ -z "${1:-}" ]; then
  echo "zsh: add 'fpath=(~/.zfunc \$fpath); autoload -U compinit && compinit' to ~/.zshrc if ~/.zfunc is not in \$fpath yet"
fi
