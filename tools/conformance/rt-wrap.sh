#!/bin/sh
# Wrapper used by run.sh as $RUNTIME. Env (inherited from run.sh via the test executable):
#   RT_WRAP_REAL     real runtime binary (required)
#   RT_WRAP_CMDLOG   if set, append the argv of every invocation to this file
#   RT_WRAP_OCIVER   if set, rewrite "ociVersion" in <bundle>/config.json to this value before `create`
[ -n "$RT_WRAP_CMDLOG" ] && printf '%s\n' "$*" >> "$RT_WRAP_CMDLOG"
if [ -n "$RT_WRAP_OCIVER" ] && [ "$1" = create ]; then
    b=.; prev=
    for a in "$@"; do
        case $prev in --bundle|-b) b=$a ;; esac
        case $a in --bundle=*) b=${a#--bundle=} ;; esac
        prev=$a
    done
    [ -f "$b/config.json" ] && sed -i "s/\"ociVersion\": *\"[^\"]*\"/\"ociVersion\":\"$RT_WRAP_OCIVER\"/" "$b/config.json"
fi
exec "$RT_WRAP_REAL" "$@"
