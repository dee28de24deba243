# The ShieldX API packages (included by proto/CMakeLists.txt, which defines
# shieldx_proto_library). One library per package directory.
shieldx_proto_library(common shieldx/common/v1)
foreach(svc orchestrator credits contauth shadow twin webapi)
  file(GLOB svc_protos ${CMAKE_CURRENT_SOURCE_DIR}/shieldx/${svc}/v1/*.proto)
  if(svc_protos)
    shieldx_proto_library(${svc} shieldx/${svc}/v1 DEPS shieldx::proto_common)
  endif()
endforeach()

# A FileDescriptorSet of every ShieldX proto with source info (comments) and imports, for tools
# that need the full schema: the proto lint test checks comments from it; the gateway and API
# docs can load it at run time.
file(GLOB_RECURSE SHIELDX_PROTO_FILES RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
     CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/shieldx/*.proto)
list(SORT SHIELDX_PROTO_FILES)
set(SHIELDX_DESCRIPTOR_SET ${PROTO_GEN}/shieldx_descriptor_set.binpb)
add_custom_command(
  OUTPUT ${SHIELDX_DESCRIPTOR_SET}
  COMMAND protobuf::protoc ARGS --proto_path=${CMAKE_CURRENT_SOURCE_DIR} --include_imports
          --include_source_info --descriptor_set_out=${SHIELDX_DESCRIPTOR_SET}
          ${SHIELDX_PROTO_FILES}
  DEPENDS ${SHIELDX_PROTO_FILES} protobuf::protoc
  WORKING_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
  COMMENT "protoc descriptor set (all ShieldX protos)" VERBATIM)
add_custom_target(shieldx_proto_descriptor_set DEPENDS ${SHIELDX_DESCRIPTOR_SET})

if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/proto_test.cc)
  shieldx_tests(proto_test
    SRCS ${CMAKE_CURRENT_SOURCE_DIR}/proto_test.cc
    DEPS shieldx::proto_common shieldx::proto_orchestrator shieldx::proto_credits
         shieldx::proto_contauth shieldx::proto_shadow shieldx::proto_twin shieldx::proto_webapi
    LABELS unit)
  add_dependencies(proto_test shieldx_proto_descriptor_set)
  target_compile_definitions(proto_test PRIVATE
    SHIELDX_DESCRIPTOR_SET_PATH="${SHIELDX_DESCRIPTOR_SET}")
endif()
