/* fake-mnv2d — the tests' scripted fake server as a program, for clients in other
 * languages (the Python example in docs/protocol.md): listens on a fresh socket under /tmp,
 * prints its path and a newline on stdout, answers every request on the first N
 * connections (argument, default 1) with fake_server.c's canned responses, then exits.
 * Not a daemon: nothing here is used by mnv2d. */
#include <stdio.h>
#include <stdlib.h>

#include "fake_server.h"

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1;
	if (n < 1 || n > 1000) {
		fprintf(stderr, "usage: fake-mnv2d [CONNECTIONS (1..1000)]\n");
		return 2;
	}
	fake_server *s = fs_start_listen(fs_script_echo, NULL, n);
	printf("%s\n", fs_path(s));
	fflush(stdout);
	fs_join(s);
	return 0;
}
