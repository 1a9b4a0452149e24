// SPDX-License-Identifier: MIT
// SPDX-FileCopyrightText: wsserve contributors
//
// The tictactoe conformance tests against the JavaScript twin of the built-in type,
// examples/types/tictactoe.js (type tictactoe_js, loaded with --types-dir).
'use strict';

const path = require('node:path');

process.env.WSSERVE_TTT_TYPE = 'tictactoe_js';
process.env.WSSERVE_TTT_ARGS = JSON.stringify(['--types-dir', path.join(__dirname, '..', '..', 'examples', 'types')]);
require('./tictactoe.test.js');
