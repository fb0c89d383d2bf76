/* greenfork native applications: the C ABI between gworker and a shared
 * library loaded with `gworker native:/path/libapp.so[?ARGS]`.
 *
 * Usable from C, C++ and Rust (plain C types, no C++ in the interface).
 * The library exports two functions, and a third optionally:
 *
 *   int  gf_app_init(const gf_api* api, const char* args, gf_app_config* config);
 *   int  gf_app_handle(void* ctx, gf_request* request, gf_response* response);
 *   void gf_app_shutdown(void* ctx);                        (optional)
 *
 * gf_app_init runs once, on the main thread, before any request. `args` is
 * the text after '?' in the spec ("" when there is none): e.g.
 * `native:/opt/libapp.so?greeting=hi&x=1` passes "greeting=hi&x=1". It keeps
 * `api` (valid for the whole life of the process), may set config->ctx (the
 * `ctx` given to the other two) and config->flags, and returns 0; on failure
 * it writes a reason into config->error and returns non-zero: gworker prints
 * "native:PATH: init failed: REASON" and exits 4 (as it does when dlopen or
 * a required symbol fails, naming the path and the dlerror() text).
 *
 * gf_app_handle runs once per request on one of the app threads (several
 * at once with `-k gthread --threads N`, so it must be thread-safe then). It
 * reads the request through api->..., answers through the response calls,
 * and returns 0. If it returns non-zero before anything was sent, gworker
 * answers 500; after that, the connection is closed. If it returns 0 without
 * writing anything, the response is the status set (default 200) with an
 * empty body.
 *
 * Responses: api->set_status and api->add_header before the first write;
 * api->write as often as needed. gworker buffers: a response written within
 * one buffer (64 KiB) goes out with Content-Length in a single writev when
 * handle returns; a larger one is streamed (chunked, unless the app gave a
 * Content-Length) with back-pressure, write blocking the app thread. Date,
 * Server and Connection headers are added by gworker.
 *
 * GF_APP_INLINE: a handler that never blocks (no I/O, no locks held long,
 * no large body reads) and is quick may set this flag; gworker then runs it
 * on its I/O thread when the whole request body is already buffered, which
 * saves two thread hand-offs per request. A blocking inline handler stalls
 * every connection of the worker: use it only for such small handlers.
 *
 * Strings (gf_str) point into gworker's memory, are NOT NUL-terminated and
 * stay valid until gf_app_handle returns.
 *
 * A complete application (examples/native/hello/hello.c):
 *
 *   #include "greenfork/worker/native_app.h"
 *   static const gf_api* api;
 *   int gf_app_init(const gf_api* a, const char* args, gf_app_config* c) {
 *     (void)args; api = a; c->flags = GF_APP_INLINE; return 0;
 *   }
 *   int gf_app_handle(void* ctx, gf_request* req, gf_response* res) {
 *     (void)ctx; (void)req;
 *     api->add_header(res, "Content-Type", 12, "text/plain", 10);
 *     return api->write(res, "Hello, World!", 13);
 *   }
 */
#ifndef GREENFORK_WORKER_NATIVE_APP_H
#define GREENFORK_WORKER_NATIVE_APP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on incompatible changes; api->abi_version tells the app which one
 * gworker speaks. New functions are only ever appended to gf_api: check
 * api->size >= offsetof(gf_api, fn) + sizeof(api->fn) before using a newer one. */
#define GF_NATIVE_ABI_VERSION 1

typedef struct gf_request gf_request;   /* opaque */
typedef struct gf_response gf_response; /* opaque */

typedef struct gf_str {
  const char* data;
  size_t len;
} gf_str;

#define GF_APP_INLINE 1u

typedef struct gf_app_config {
  void* ctx;          /* out: handed to gf_app_handle and gf_app_shutdown */
  unsigned flags;     /* out: GF_APP_* bits */
  char error[256];    /* out: NUL-terminated reason when init fails */
} gf_app_config;

typedef struct gf_api {
  uint32_t abi_version; /* GF_NATIVE_ABI_VERSION of the running gworker */
  uint32_t size;        /* sizeof(gf_api) in the running gworker */

  /* ---- the request (valid during gf_app_handle) ---- */
  gf_str (*method)(const gf_request* r);      /* "GET" */
  gf_str (*target)(const gf_request* r);      /* raw request-target "/a%20b?x=1" */
  gf_str (*path)(const gf_request* r);        /* target up to '?', percent-encoded */
  gf_str (*query)(const gf_request* r);       /* after '?', without it */
  int (*http_minor)(const gf_request* r);     /* 0 or 1 (HTTP/1.x; HTTP/2 reads as 1) */
  size_t (*header_count)(const gf_request* r);
  /* The index-th header in arrival order; 0 on success, -1 past the end. */
  int (*header_at)(const gf_request* r, size_t index, gf_str* name, gf_str* value);
  /* The first header with this name (ASCII case-insensitive); 0 found, -1 not. */
  int (*header)(const gf_request* r, const char* name, size_t name_len, gf_str* value);
  gf_str (*remote_addr)(const gf_request* r); /* "" on unix sockets */
  int (*remote_port)(const gf_request* r);
  gf_str (*url_scheme)(const gf_request* r);  /* "https" over TLS or from a trusted proxy, else "http" */
  /* Content-Length, or -1 when the body is chunked or absent. */
  int64_t (*content_length)(const gf_request* r);
  /* Up to max bytes of the decoded body: > 0 bytes read, 0 at its end,
   * -1 when the client went away or sent a bad body. Blocks the app thread
   * until bytes arrive; sends "100 Continue" first if the client asked. */
  int64_t (*read)(gf_request* r, void* buf, size_t max);

  /* ---- the response ---- */
  /* Status code 100..999 with the standard reason phrase; default 200.
   * 0 ok, -1 after the first write or for a bad code. */
  int (*set_status)(gf_response* w, int code);
  /* 0 ok, -1 after the first write or for a bad name/value (CR, LF, NUL,
   * non-token name). */
  int (*add_header)(gf_response* w, const char* name, size_t name_len,
                    const char* value, size_t value_len);
  /* Body bytes. 0 ok, -1 when the client went away (stop and return). */
  int (*write)(gf_response* w, const void* data, size_t len);
  /* count bytes of fd from offset, with sendfile(); the app keeps fd. */
  int (*send_file)(gf_response* w, int fd, int64_t offset, uint64_t count);

  /* ---- the worker ---- */
  /* A line in gworker's error log. */
  void (*log_error)(const char* message, size_t len);

  /* ---- appended (check api->size first) ---- */
  /* Over TLS (--certfile), the subject of the client certificate verified
   * against --ca-certs, RFC 2253 ("CN=alice,O=example"); "" when none. */
  gf_str (*tls_client_subject)(const gf_request* r);
  /* 103 Early Hints (RFC 8297): an informational response with these
   * `count` headers (typically Link), sent now, ahead of the final one.
   * 1 sent; 0 nothing sent and nothing to do (an HTTP/1.0 client,
   * --protocol uwsgi, or after the first write); -1 a bad name or value
   * (nothing sent) or the client went away. */
  int (*early_hints)(gf_response* w, const gf_str* names, const gf_str* values, size_t count);
} gf_api;

/* What the library exports (declared here so the compiler checks them). */
int gf_app_init(const gf_api* api, const char* args, gf_app_config* config);
int gf_app_handle(void* ctx, gf_request* request, gf_response* response);
void gf_app_shutdown(void* ctx);

#ifdef __cplusplus
}
#endif

#endif /* GREENFORK_WORKER_NATIVE_APP_H */
