# cmake -DDIR=dir -DGLOB=pattern -DOUT=file.c -DSYM=name -P EmbedDir.cmake
# Concatenates the files of DIR matching GLOB, in name order, each preceded by
# a line "# file: NAME", and writes them as `const unsigned char SYM[]` and
# `const unsigned long SYM_len` (as Embed.cmake does for one file).
file(GLOB files ${DIR}/${GLOB})
list(SORT files)
set(all "")
foreach(f ${files})
    get_filename_component(name ${f} NAME)
    file(READ ${f} text)
    string(APPEND all "# file: ${name}\n${text}\n")
endforeach()
get_filename_component(outdir ${OUT} DIRECTORY)
file(WRITE ${outdir}/${SYM}.txt "${all}")
file(READ ${outdir}/${SYM}.txt hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" body "${body}")
file(WRITE ${OUT} "/* Generated from the files of ${DIR}; do not edit. */\n"
    "extern const unsigned char ${SYM}[];\nextern const unsigned long ${SYM}_len;\n"
    "const unsigned char ${SYM}[] = {\n${body}0x00};\n"
    "const unsigned long ${SYM}_len = ${len}UL;\n")
