import { Controller, Get, Param, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { uuidParam } from '../common.pipes.js';
import { ConsoleErrorFilter } from './console-error.filter.js';
import { ConsoleException } from './console.exception.js';
import { sendHtml, type ConsoleRequest } from './console-request.js';
import { parseInput } from './console.schemas.js';
import { ConsoleSessionGuard } from './console-session.guard.js';
import { JobRunsReader } from './job-runs.service.js';
import { jobRunPage, jobsPage } from './views/jobs.view.js';

/** Runs listed per job on the whole page, and of the one job filtered on. */
const RUNS_PER_JOB = 10;
const RUNS_OF_ONE_JOB = 100;

/** `GET /console/jobs`: `job`, a job name (`[a-z][a-z0-9-]*`, as the scheduler keys runs; empty: every job). */
export const jobsQuerySchema = z.object({
  job: z
    .union([z.literal(''), z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be a job name')])
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
});

/** The jobs page: schedules and next runs, the newest runs, failures highlighted. */
@ApiExcludeController()
@UseGuards(ConsoleSessionGuard)
@UseFilters(ConsoleErrorFilter)
@Controller('console/jobs')
export class ConsoleJobsController {
  constructor(private readonly runs: JobRunsReader) {}

  @Get()
  async list(@Query() query: unknown, @Req() request: ConsoleRequest, @Res() reply: FastifyReply): Promise<void> {
    const { job } = parseInput(jobsQuerySchema, query);
    const names = this.runs.jobNames();
    const { runs, schedules } = await this.runs.latest(job ? [job] : names, job ? RUNS_OF_ONE_JOB : RUNS_PER_JOB);
    sendHtml(reply, 200, jobsPage(names, job, schedules, runs, request.consoleSession!));
  }

  /** One run: its counts, and each tenant's outcome (failures first, with their error). */
  @Get(':id')
  async run(
    @Param('id', uuidParam('id')) id: string,
    @Req() request: ConsoleRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const detail = await this.runs.run(id);
    if (!detail) throw ConsoleException.jobRunNotFound(id);
    sendHtml(reply, 200, jobRunPage(detail, request.consoleSession!));
  }
}
