# One place for the flags every greenfork target gets. Flags are attached to
# targets, never set globally, so vendored C (llhttp) and generated code keep
# their own.
set(GF_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
    -Wold-style-cast -Wcast-align -Woverloaded-virtual -Wnull-dereference
    -Wformat=2 -Wimplicit-fallthrough)
# GCC 12 with -fsanitize=address reports Asio's coroutine-frame
# operator delete as "mismatched" (-Wmismatched-new-delete) although the
# frame comes from its own operator new: off in sanitizer builds only.
set(GF_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<CXX_COMPILER_ID:GNU>>:-Wno-mismatched-new-delete>)

set(GF_TSAN_FLAGS -fsanitize=thread -fno-omit-frame-pointer)

# gf_sanitize(target): sanitizer flags only, for third-party and generated code.
function(gf_sanitize target)
  if(GF_SANITIZE)
    target_compile_options(${target} PRIVATE ${GF_SANITIZER_FLAGS})
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  elseif(GF_TSAN)
    target_compile_options(${target} PRIVATE ${GF_TSAN_FLAGS})
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# gf_target(target): warnings (errors under GF_WERROR) and sanitizers.
function(gf_target target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX>:${GF_WARNINGS}>
    $<$<BOOL:${GF_WERROR}>:-Werror>)
  gf_sanitize(${target})
endfunction()
