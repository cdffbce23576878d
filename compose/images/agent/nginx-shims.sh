#!/bin/sh
# Installed as /usr/local/bin/sudo, /usr/local/bin/systemctl and /usr/local/bin/nginx in the agent
# image. The stock agent ends bench and site jobs with "Reload NGINX" (`sudo systemctl reload
# nginx`, `sudo nginx -t`); here Traefik routes instead of a host nginx, so those calls succeed
# without doing anything. `sudo` grants nothing: it runs the command as the same user.
# Any other systemctl or nginx call fails loudly.
set -eu
case "$(basename "$0")" in
sudo)
	exec "$@"
	;;
systemctl)
	case "$*" in
	"reload nginx" | "status nginx" | "restart nginx")
		echo "nginx is replaced by Traefik in press_selfhost: '$*' has nothing to do"
		exit 0
		;;
	esac
	;;
nginx)
	case "$*" in
	"-t" | "-s reload")
		echo "nginx is replaced by Traefik in press_selfhost: 'nginx $*' has nothing to do"
		exit 0
		;;
	esac
	;;
esac
echo "$(basename "$0") $*: not available in the press_selfhost agent container" >&2
exit 1
