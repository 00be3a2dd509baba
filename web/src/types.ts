// The API's representations, as functions/openapi/openapi.json describes them (camelCase JSON).

export type TaskStatus = 'todo' | 'in_progress' | 'done';
export type TaskPriority = 'low' | 'medium' | 'high';
export type ProjectRole = 'owner' | 'admin' | 'member' | 'viewer';

export const STATUSES: ReadonlyArray<{ id: TaskStatus; label: string }> = [
  { id: 'todo', label: 'To do' },
  { id: 'in_progress', label: 'In progress' },
  { id: 'done', label: 'Done' },
];
export const PRIORITIES: readonly TaskPriority[] = ['low', 'medium', 'high'];
export const ROLES: readonly ProjectRole[] = ['viewer', 'member', 'admin'];

export interface Task {
  id: string;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  dueDate: string | null;
  tags: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
  remindAt?: string | null;
  // Collaboration (issue 11): present once the API has them.
  projectId?: string | null;
  assigneeId?: string | null;
  ownerId?: string | null;
}

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

export interface User {
  id: string;
  name: string;
  email: string;
  createdAt: string;
}

export interface Project {
  id: string;
  name: string;
  description: string;
  ownerId: string;
  role: ProjectRole;
  archived: boolean;
  memberCount: number;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface Member {
  userId: string;
  email: string | null;
  role: ProjectRole;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  projectId: string;
  projectName: string;
  role: ProjectRole;
  invitedBy: string;
  createdAt: string;
  expiresAt: string;
}

export interface Notification {
  id: string;
  type: string;
  taskId: string | null;
  projectId: string | null;
  title: string;
  actor: string | null;
  message: string;
  createdAt: string;
  readAt: string | null;
}

export interface ActivityEntry {
  type: string;
  taskId: string | null;
  title: string;
  timestamp: string;
  message: string;
  actorId?: string | null;
  projectId?: string | null;
  commentId?: string | null;
}

export interface Comment {
  id?: string;
  commentId?: string;
  taskId: string;
  authorId: string;
  body: string;
  mentions?: string[];
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const commentIdOf = (comment: Comment): string => comment.id ?? comment.commentId ?? '';

export interface AppConfig {
  apiUrl: string;
  webSocketUrl?: string;
}
