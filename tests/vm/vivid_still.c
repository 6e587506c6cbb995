/* vivid_still — makes a vivid capture device's frames identical from one to the next, so
 * that the same scene captured in different pixel formats can be compared: turns its
 * on-screen text (frame counter, time) off.
 *
 * usage: vivid_still /dev/videoN...
 * Finds the control named "OSD Text Mode" (VIDIOC_QUERY_EXT_CTRL, by name: vivid's private
 * control IDs are not UAPI) and sets it to its "None" item. Exit 0, or 1 with a message
 * when a device has no such control or refuses it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

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

static int still(const char *dev)
{
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("vivid_still: cannot open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	struct v4l2_query_ext_ctrl c = { .id = V4L2_CTRL_FLAG_NEXT_CTRL };
	while (ioctl(fd, VIDIOC_QUERY_EXT_CTRL, &c) == 0) {
		if (!strcmp(c.name, "OSD Text Mode") && c.type == V4L2_CTRL_TYPE_MENU) {
			struct v4l2_control set = { .id = c.id, .value = menu_index(fd, &c, "None") };
			int rc = set.value < 0 ? -1 : ioctl(fd, VIDIOC_S_CTRL, &set);
			if (rc)
				printf("vivid_still: %s: cannot set OSD Text Mode to None\n", dev);
			close(fd);
			return rc ? 1 : 0;
		}
		c.id |= V4L2_CTRL_FLAG_NEXT_CTRL;
	}
	printf("vivid_still: %s has no OSD Text Mode control (not vivid?)\n", dev);
	close(fd);
	return 1;
}

int main(int argc, char **argv)
{
	int rc = argc < 2;
	if (rc)
		fprintf(stderr, "usage: vivid_still /dev/videoN...\n");
	for (int i = 1; i < argc; i++)
		rc |= still(argv[i]);
	return rc;
}
