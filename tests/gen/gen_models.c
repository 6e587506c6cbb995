/* gen-models OUTDIR [-v] [--seed N] — writes the synthetic test models (synth_models.h) as
 * OUTDIR/synth_mnv2_uint8.tflite, synth_mnv2_int8pc.tflite and synth_ssdlite_head.tflite.
 * -v prints each model's per-layer calibration report to stderr. Exit status 0 on success. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synth_models.h"

static int write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    int ok;

    if (!f) {
        fprintf(stderr, "gen-models: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    ok = fwrite(p, 1, n, f) == n;
    ok = (fclose(f) == 0) && ok;
    if (!ok)
        fprintf(stderr, "gen-models: write error on %s\n", path);
    return ok ? 0 : -1;
}

static int usage(void)
{
    fprintf(stderr, "usage: gen-models [-v] [--seed N] OUTDIR\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct {
        enum synth_kind kind;
        const char *file;
    } models[] = {
        {SYNTH_MNV2_UINT8, "synth_mnv2_uint8.tflite"},
        {SYNTH_MNV2_INT8PC, "synth_mnv2_int8pc.tflite"},
        {SYNTH_SSDLITE_HEAD, "synth_ssdlite_head.tflite"},
    };
    const char *outdir = NULL;
    unsigned long seed = 1;
    int verbose = 0, i, rc = 0;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) {
            verbose = 1;
        } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
            char *end;
            errno = 0;
            seed = strtoul(argv[++i], &end, 0);
            if (errno || *end || seed > 0xffffffffUL)
                return usage();
        } else if (argv[i][0] == '-' || outdir) {
            return usage();
        } else {
            outdir = argv[i];
        }
    }
    if (!outdir)
        return usage();
    for (i = 0; i < (int)(sizeof models / sizeof models[0]); i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        char path[4096];
        if (snprintf(path, sizeof path, "%s/%s", outdir, models[i].file) >= (int)sizeof path) {
            fprintf(stderr, "gen-models: output path too long\n");
            return 1;
        }
        if (synth_model(models[i].kind, (uint32_t)seed, verbose ? stderr : NULL, &bytes,
                        &len)) {
            fprintf(stderr, "gen-models: building %s failed\n", models[i].file);
            if (!verbose) /* deterministic: run again with the report to show where */
                synth_model(models[i].kind, (uint32_t)seed, stderr, &bytes, &len);
            free(bytes);
            rc = 1;
            continue;
        }
        if (write_bytes(path, bytes, len))
            rc = 1;
        else
            printf("%s (%zu bytes)\n", path, len);
        free(bytes);
    }
    return rc;
}
