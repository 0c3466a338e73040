# cmake -DEXE=<precision_sweep> -DOUT=<folder> -P check_quick.cmake
#
# Runs the demo's CI smoke sweep and checks what a user sees: exit status 0
# (the program's own --check), the table (header + 5 recipes x LR 1x/10x, every
# row with its six columns), the post-training-quantization table (a row per
# run cell: noise-free bf16, MXFP6 e2m3 / e3m2 and MXFP4 per 32, e2m3 and e2m1
# per output), bf16's validation loss
# below the unigram entropy as printed, and the four output files.
foreach(var EXE OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_quick.cmake: pass -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE "${OUT}")
execute_process(COMMAND "${EXE}" --quick --check --out "${OUT}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "precision_sweep --quick --check exited with '${rc}':\n${err}")
endif()

# ---- the table -----------------------------------------------------------------
if(NOT out MATCHES "\nrecipe +LR +final val loss +diverged +spikes +sharpness\n")
  message(FATAL_ERROR "table header missing")
endif()
set(num "[0-9]+\\.[0-9]+")
set(stat "(${num} ± ${num}|-)")
string(REGEX MATCHALL "\n[a-z0-9_]+ +[0-9.]+x +${stat} +[0-9]+/1 +[0-9]+ +${stat}" rows "${out}")
list(LENGTH rows nrows)
if(NOT nrows EQUAL 10)
  message(FATAL_ERROR "expected 10 table rows (5 recipes x 2 learning rates), found ${nrows}")
endif()
foreach(recipe bf16 e5m7_rne fp8_e4m3_e5m2 mxfp8_e4m3 gaussws_e2m1)
  foreach(lr 1x 10x)
    if(NOT out MATCHES "\n${recipe} +${lr} ")
      message(FATAL_ERROR "table row '${recipe} ${lr}' missing")
    endif()
  endforeach()
endforeach()

# ---- post-training quantization ------------------------------------------------------
if(NOT out MATCHES "\nrecipe +LR +bf16 +mx_e2m3 +mx_e3m2 +mx_e2m1 +row_e2m3 +row_e2m1 *\n")
  message(FATAL_ERROR "post-training quantization table header missing")
endif()
string(REGEX MATCHALL "\n[a-z0-9_]+ +[0-9.]+x +${stat} +${stat} +${stat} +${stat} +${stat} +${stat}" ptq_rows "${out}")
list(LENGTH ptq_rows nptq)
if(NOT nptq EQUAL 10)
  message(FATAL_ERROR "expected 10 post-training quantization rows, found ${nptq}")
endif()
file(STRINGS "${OUT}/ptq.csv" ptq_csv)
list(LENGTH ptq_csv nptq_csv)
if(NOT nptq_csv EQUAL 61)  # header + 10 cells x 6 evaluations
  message(FATAL_ERROR "ptq.csv has ${nptq_csv} lines, expected 61")
endif()

# ---- bf16 learns -----------------------------------------------------------------
if(NOT out MATCHES "unigram entropy of the training text: (${num}) nats/char")
  message(FATAL_ERROR "unigram entropy line missing")
endif()
set(unigram "${CMAKE_MATCH_1}")
if(NOT out MATCHES "\nbf16 +1x +(${num}) ± ")
  message(FATAL_ERROR "bf16 1x has no validation loss (diverged?)")
endif()
set(bf16 "${CMAKE_MATCH_1}")
if(NOT bf16 LESS unigram)
  message(FATAL_ERROR "bf16 did not learn: validation loss ${bf16} >= unigram entropy ${unigram}")
endif()

# ---- output files ------------------------------------------------------------------
file(STRINGS "${OUT}/curves.csv" csv_head LIMIT_COUNT 1)
if(NOT csv_head STREQUAL "recipe,lr_mult,lr,seed,step,train_loss,val_loss,sharpness")
  message(FATAL_ERROR "curves.csv header: '${csv_head}'")
endif()
file(STRINGS "${OUT}/curves.csv" csv_rows)
list(LENGTH csv_rows ncsv)
if(ncsv LESS 1601)  # 10 runs of up to 400 steps (a diverged run stops early) + header
  message(FATAL_ERROR "curves.csv has ${ncsv} lines, expected at least 1601")
endif()
file(STRINGS "${OUT}/summary.csv" summary)
list(LENGTH summary nsummary)
if(NOT nsummary EQUAL 11)
  message(FATAL_ERROR "summary.csv has ${nsummary} lines, expected 11")
endif()
file(READ "${OUT}/curves.svg" svg)
if(NOT svg MATCHES "^<\\?xml" OR NOT svg MATCHES "</svg>\n$" OR NOT svg MATCHES "<path d=\"M")
  message(FATAL_ERROR "curves.svg is not a complete SVG with curves")
endif()
message(STATUS "precision_sweep quick: ${nrows} rows, bf16 ${bf16} < unigram ${unigram}, files ok")
