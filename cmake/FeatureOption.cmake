include(FeatureSummary)
# feature_option(NAME "description" DEFAULT): an option that feature_summary reports.
macro(feature_option name description default)
    option(${name} "${description}" ${default})
    add_feature_info(${name} ${name} "${description}")
endmacro()
