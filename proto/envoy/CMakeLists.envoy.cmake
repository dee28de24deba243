# Envoy ext_authz v3 messages written by ShieldX (wire-compatible with Envoy's API), generated
# with proto/envoy as the import root so the files register under Envoy's own paths
# ("envoy/service/auth/v3/external_auth.proto"). Library: shieldx::proto_envoy.
set(ENVOY_PROTO_ROOT ${CMAKE_CURRENT_SOURCE_DIR}/envoy)
set(ENVOY_PROTO_FILES
  google/rpc/status.proto
  envoy/config/core/v3/address.proto
  envoy/config/core/v3/base.proto
  envoy/type/v3/http_status.proto
  envoy/service/auth/v3/attribute_context.proto
  envoy/service/auth/v3/external_auth.proto)
set(envoy_proto_srcs)
foreach(p ${ENVOY_PROTO_FILES})
  string(REGEX REPLACE "\\.proto$" "" base ${p})
  set(out ${PROTO_GEN}/${base}.pb.cc ${PROTO_GEN}/${base}.pb.h)
  set(grpc_args)
  if(p MATCHES "external_auth\\.proto$")
    list(APPEND out ${PROTO_GEN}/${base}.grpc.pb.cc ${PROTO_GEN}/${base}.grpc.pb.h)
    set(grpc_args --grpc_out=${PROTO_GEN}
                  --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
  endif()
  add_custom_command(
    OUTPUT ${out}
    COMMAND protobuf::protoc ARGS --proto_path=${ENVOY_PROTO_ROOT} --cpp_out=${PROTO_GEN}
            ${grpc_args} ${p}
    DEPENDS ${ENVOY_PROTO_ROOT}/${p} protobuf::protoc gRPC::grpc_cpp_plugin
    COMMENT "protoc (envoy) ${p}" VERBATIM)
  list(APPEND envoy_proto_srcs ${PROTO_GEN}/${base}.pb.cc)
  if(p MATCHES "external_auth\\.proto$")
    list(APPEND envoy_proto_srcs ${PROTO_GEN}/${base}.grpc.pb.cc)
  endif()
endforeach()
add_library(shieldx_proto_envoy STATIC ${envoy_proto_srcs})
add_library(shieldx::proto_envoy ALIAS shieldx_proto_envoy)
target_compile_options(shieldx_proto_envoy PRIVATE -Wno-unused-parameter -Wno-error)
target_include_directories(shieldx_proto_envoy PUBLIC ${PROTO_GEN})
target_link_libraries(shieldx_proto_envoy PUBLIC protobuf::libprotobuf gRPC::grpc++)
