// Peers of sentry-auth-bench measured in the same run (see Benchmarks/README.md): libsodium's
// sodium_memcmp on 32 bytes, OpenSSL's SHA-256 of a 37-byte key (run with OPENSSL_ia32cap set by
// peers.sh to mask SHA-NI off: its software path), and a dependent pointer chase over 64 MiB.
// Each is timed like sentry-auth-bench: calibrated batches of ~2 ms (0.3 ms with --quick), the
// median over 101 batches (21), printed as "name ns_per_op".
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile uint64_t sink;
static int quick;

static uint64_t nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*body)(uint64_t iterations);

static void measure(const char *name, body run) {
    uint64_t target = quick ? 300000 : 2000000, iterations = 1;
    run(1000);  // warm up
    for (;;) {
        uint64_t start = nanoseconds();
        run(iterations);
        if (nanoseconds() - start >= target || iterations > (1ull << 40)) break;
        iterations *= 2;
    }
    int batches = quick ? 21 : 101;
    double samples[101];
    for (int i = 0; i < batches; i++) {
        uint64_t start = nanoseconds();
        run(iterations);
        samples[i] = (double)(nanoseconds() - start) / (double)iterations;
    }
    qsort(samples, batches, sizeof(double), compare);
    printf("%s %.1f\n", name, samples[batches / 2]);
    fflush(stdout);
}

static unsigned char left[32], right[32];

static void sodium_equal(uint64_t iterations) {
    uint64_t total = 0;
    for (uint64_t i = 0; i < iterations; i++) {
        right[31] = (unsigned char)i;  // equal on one call in 256; never hoisted
        total += (uint64_t)sodium_memcmp(left, right, 32);
    }
    sink += total;
}

static EVP_MD_CTX *context;
static EVP_MD *sha256;
static unsigned char key[37] = "sntr_abcdefghijklmnopqrstuvwxyz123456";

static void openssl_sha256(uint64_t iterations) {
    unsigned char digest[32];
    unsigned int length;
    for (uint64_t i = 0; i < iterations; i++) {
        key[36] = (unsigned char)('0' + (i & 7));
        EVP_DigestInit_ex(context, sha256, NULL);
        EVP_DigestUpdate(context, key, sizeof key);
        EVP_DigestFinal_ex(context, digest, &length);
        sink += digest[0];
    }
}

static size_t *chain;
static size_t position;

static void chase(uint64_t iterations) {
    size_t at = position;
    for (uint64_t i = 0; i < iterations; i++) at = chain[at];
    position = at;
}

int main(int argc, char **argv) {
    quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    if (sodium_init() < 0) return 1;
    memset(left, 7, sizeof left);
    memcpy(right, left, sizeof right);
    measure("peer.sodium_memcmp-32", sodium_equal);

    // A fetched digest and one reused context: EVP_sha256() would fetch the provider on every init.
    sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    context = EVP_MD_CTX_new();
    if (!sha256 || !context) return 1;
    measure("peer.openssl-sha256.key", openssl_sha256);

    // One random cycle through 64 MiB of indices (Sattolo's shuffle): every load depends on the last.
    size_t count = (64u << 20) / sizeof(size_t);
    chain = malloc(count * sizeof(size_t));
    if (!chain) return 1;
    for (size_t i = 0; i < count; i++) chain[i] = i;
    uint64_t state = 0x9E3779B97F4A7C15u;
    for (size_t i = count - 1; i > 0; i--) {
        state ^= state << 13, state ^= state >> 7, state ^= state << 17;
        size_t j = state % i;
        size_t swap = chain[i];
        chain[i] = chain[j];
        chain[j] = swap;
    }
    measure("peer.c-memory-chase.64MiB", chase);
    return 0;
}
