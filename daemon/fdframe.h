/* fdframe — a raw frame's bytes read in place from a file descriptor a client passed with
 * SCM_RIGHTS (docs/protocol.md, "Frames in file descriptors").
 *
 * Contract:
 *  - mnv2d_fdframe_map() accepts only two kinds of descriptor:
 *      a memfd carrying at least F_SEAL_SHRINK (F_GET_SEALS), on tmpfs (hugetlbfs memfds are
 *        refused: a fault on an exhausted huge page pool raises SIGBUS); its size
 *        (fstat) must hold fd_offset + need bytes. The seal means the client cannot shrink
 *        the file under the mapping, so no read of ours can fault past its end;
 *      a dmabuf (it answers DMA_BUF_IOCTL_SYNC); its size (lseek SEEK_END) is fixed by the
 *        exporter and must hold fd_offset + need bytes. DMA_BUF_SYNC_START|READ is issued
 *        after mapping and DMA_BUF_SYNC_END|READ by mnv2d_fdframe_unmap().
 *    Anything else (a pipe, a directory, a socket, a plain file, an unsealed memfd) is
 *    refused with a message saying what it is and what was expected.
 *  - The mapping is read-only (PROT_READ, MAP_SHARED) and covers exactly the bytes
 *    [fd_offset, fd_offset + need) (from the page boundary below fd_offset). *data points at
 *    the frame's byte 0.
 *  - The descriptor is never closed here: the job that owns it closes it. */
#ifndef MNV2D_FDFRAME_H
#define MNV2D_FDFRAME_H

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_fdframe {
	void *base;          /* the mapping; NULL when none */
	size_t maplen;
	int fd;              /* for DMA_BUF_IOCTL_SYNC END; -1 when not a dmabuf */
	int dmabuf;
	const uint8_t *data; /* the frame's byte 0 */
} mnv2d_fdframe;

/* The bytes a descriptor holds from fd_offset on (memfd: after checking the seal; dmabuf:
 * its size), for validating the frame's geometry before mapping. Returns 0, or -1 with msg
 * ("the file descriptor is a pipe, not a memfd or dmabuf"). */
int mnv2d_fdframe_probe(int fd, uint64_t fd_offset, uint64_t *avail, int *dmabuf, char *msg,
			size_t msglen);

/* Maps need bytes from fd_offset (probe first). Returns 0, or -1 with msg. */
int mnv2d_fdframe_map(int fd, int dmabuf, uint64_t fd_offset, size_t need, mnv2d_fdframe *m,
		      char *msg, size_t msglen);

/* Ends the dmabuf read access and unmaps; safe on a zeroed or already unmapped struct. */
void mnv2d_fdframe_unmap(mnv2d_fdframe *m);

#endif
