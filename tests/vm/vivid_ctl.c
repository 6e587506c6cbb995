/* vivid_ctl — sets controls of a vivid test camera by name, for tests/vm/inside.sh: vivid's
 * own control IDs are not UAPI, so they are found with VIDIOC_QUERY_EXT_CTRL by name.
 *
 * usage: vivid_ctl /dev/videoN 'NAME=ITEM' | 'NAME'...
 *   'OSD Text Mode=None'            a menu control set to the item of that name (here: no
 *                                   frame counter or time on the picture, so frames repeat)
 *   'Inject V4L2_BUF_FLAG_ERROR'    a button pressed (here: the next frame comes flagged
 *                                   as damaged)
 * Exit 0, or 1 with a message when a control is missing, of another type, or refused. */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The control called name (its first len bytes), or id 0. */
static struct v4l2_query_ext_ctrl find(int fd, const char *name, size_t len)
{
	struct v4l2_query_ext_ctrl c = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	while (ioctl(fd, VIDIOC_QUERY_EXT_CTRL, &c) == 0) {
		if (strlen(c.name) == len && !strncmp(c.name, name, len))
			return c;
		c.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	return (struct v4l2_query_ext_ctrl){ .id = 0 };
}

/* The menu index of item `name` of control c, or -1. */
static int menu_index(int fd, const struct v4l2_query_ext_ctrl *c, const char *name)
{
	for (int64_t i = c->minimum; i <= c->maximum; i++) {
		struct v4l2_querymenu m = { .id = c->id, .index = (uint32_t)i };
		if (ioctl(fd, VIDIOC_QUERYMENU, &m) == 0 && !strcmp((const char *)m.name, name))
			return (int)i;
	}
	return -1;
}

static int set(int fd, const char *dev, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct v4l2_query_ext_ctrl c = find(fd, arg, eq ? (size_t)(eq - arg) : strlen(arg));
	struct v4l2_control v = { .id = c.id };
	if (!c.id) {
		printf("vivid_ctl: %s has no control '%.*s'\n", dev,
		       (int)(eq ? eq - arg : (long)strlen(arg)), arg);
		return 1;
	}
	if (eq && (c.type != V4L2_CTRL_TYPE_MENU || (v.value = menu_index(fd, &c, eq + 1)) < 0)) {
		printf("vivid_ctl: %s: '%s' is not a menu with that item\n", dev, arg);
		return 1;
	}
	if (!eq && c.type != V4L2_CTRL_TYPE_BUTTON) {
		printf("vivid_ctl: %s: '%s' is not a button\n", dev, arg);
		return 1;
	}
	if (ioctl(fd, VIDIOC_S_CTRL, &v)) {
		printf("vivid_ctl: %s: cannot set '%s': %s\n", dev, arg, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: vivid_ctl /dev/videoN 'NAME=ITEM' | 'NAME'...\n");
		return 1;
	}
	int fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("vivid_ctl: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int rc = 0;
	for (int i = 2; i < argc; i++)
		rc |= set(fd, argv[1], argv[i]);
	close(fd);
	return rc;
}
