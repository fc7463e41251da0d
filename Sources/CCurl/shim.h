#include <curl/curl.h>

// libcurl's option setters are C variadic functions, which Swift cannot call. These typed,
// non-variadic wrappers are static inline so they need no compiled target of their own: Clang
// emits them into the Swift module that imports CCurl.

/// The signature of CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION callbacks.
typedef size_t (*cairn_curl_data_callback)(char *data, size_t size, size_t count, void *user);

static inline CURLcode cairn_curl_setopt_long(CURL *easy, CURLoption option, long value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode cairn_curl_setopt_off(CURL *easy, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode cairn_curl_setopt_string(CURL *easy, CURLoption option, const char *value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode cairn_curl_setopt_pointer(CURL *easy, CURLoption option, void *value) {
    return curl_easy_setopt(easy, option, value);
}

static inline CURLcode cairn_curl_setopt_callback(CURL *easy, CURLoption option, cairn_curl_data_callback value) {
    return curl_easy_setopt(easy, option, value);
}

/// Sets a CURLOPT_*_BLOB option; libcurl copies the bytes, so they need not outlive the call.
static inline CURLcode cairn_curl_setopt_blob(CURL *easy, CURLoption option, const void *data, size_t length) {
    struct curl_blob blob = { (void *)data, length, CURL_BLOB_COPY };
    return curl_easy_setopt(easy, option, &blob);
}

static inline CURLcode cairn_curl_getinfo_long(CURL *easy, CURLINFO info, long *value) {
    return curl_easy_getinfo(easy, info, value);
}

static inline CURLMcode cairn_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

/// Resumes a transfer whose write callback returned CURL_WRITEFUNC_PAUSE.
static inline CURLcode cairn_curl_unpause(CURL *easy) {
    return curl_easy_pause(easy, CURLPAUSE_CONT);
}
