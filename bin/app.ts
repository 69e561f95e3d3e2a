#!/usr/bin/env node
import { createApp } from '../lib/app';

// Configuration comes from CDK context (cdk.json or `-c key=value`); see lib/config.ts for keys and defaults.
createApp();
